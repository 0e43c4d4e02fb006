"""Pack jobs: heartbeat of the running worker and the run's working folder

Revision ID: b3d1e7a0c412
Revises: 630834e2ddeb
Create Date: 2026-12-05 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = 'b3d1e7a0c412'
down_revision = '630834e2ddeb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pack_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', vendorcheck.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('work_dir', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('pack_job', schema=None) as batch_op:
        batch_op.drop_column('work_dir')
        batch_op.drop_column('heartbeat_at')
