"""Dashboard indexes at scale: vendors in name order per buyer, assessments by tier

Revision ID: d8e2b6f4a913
Revises: e6c3a9f2b5d8
Create Date: 2026-12-05 07:40:00.000000

A later migration that rebuilds `vendor` with batch_alter_table on SQLite (which copies the table) must drop
ix_vendor_buyer_name first and create it again after: SQLite's reflection skips expression indexes, so the
copy would lose it (test_migrations checks it by name on both databases).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8e2b6f4a913'
down_revision = 'e6c3a9f2b5d8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.create_index('ix_vendor_buyer_name', ['buyer_org_id', sa.text('lower(legal_name)'), 'id'],
                              unique=False)
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_buyer_tier', ['buyer_org_id', 'tier'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_buyer_tier')
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_index('ix_vendor_buyer_name')
