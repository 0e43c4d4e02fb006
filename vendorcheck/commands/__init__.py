"""The command line, one module per area; `vendorcheck.cli` registers them all."""
