"""gunicorn reads this file when started from the repository root: the production settings of
vendorcheck/gunicorn_conf.py (bind, workers, timeouts, access log without query strings or tokens).

    gunicorn 'vendorcheck:create_app()'     # or: vendorcheck serve
"""

from vendorcheck.gunicorn_conf import *  # noqa: F403
