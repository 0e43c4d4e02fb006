"""When an assessment's results were last computed: assessment.results_computed_at

Revision ID: a3f7c1e9d4b2
Revises: d8e2b6f4a913
Create Date: 2026-12-05 08:40:00.000000

Existing rows keep NULL ("not known") until their next re-score; pages then say nothing about the age.

On SQLite the downgrade copies `assessment`; reflecting it also reflects `vendor` (its foreign key), whose
expression index ix_vendor_buyer_name SQLAlchemy cannot reflect and warns about. `vendor` is not copied, so
the index stays: the warning is silenced for that step only.
"""
import warnings

from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = 'a3f7c1e9d4b2'
down_revision = 'd8e2b6f4a913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_computed_at', vendorcheck.models.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection of expression-based index',
                                sa.exc.SAWarning)
        with op.batch_alter_table('assessment', schema=None) as batch_op:
            batch_op.drop_column('results_computed_at')
