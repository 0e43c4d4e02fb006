"""An assessment can be cancelled by the buyer: when, and why

Revision ID: 5b1d7c3e9a40
Revises: b8d41f6c2e07
Create Date: 2026-12-05 07:30:00.000000

The new status value `cancelled` needs no change: the status is a plain string column.
"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = '5b1d7c3e9a40'
down_revision = 'b8d41f6c2e07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', vendorcheck.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
