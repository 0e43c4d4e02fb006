"""WSGI entry point: `flask run` and gunicorn find the app here."""

from vendorcheck import create_app

app = create_app()
