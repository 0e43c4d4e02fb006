"""Report downloads, spreadsheet exports, the public /verify page and the signing certificate."""
