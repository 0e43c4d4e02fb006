"""A user's time zone, chosen in the profile (none: the browser's)

Revision ID: b7e2d4f1a9c3
Revises: 5b1d7c3e9a40
Create Date: 2026-12-05 07:20:00.000000

See docs/pages-and-messages.md (Times).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d4f1a9c3'
down_revision = '5b1d7c3e9a40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('timezone')
