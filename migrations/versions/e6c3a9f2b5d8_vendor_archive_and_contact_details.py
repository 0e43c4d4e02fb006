"""Archived vendors (kept as records, hidden by default); a contact's language and role

Revision ID: e6c3a9f2b5d8
Revises: d4a8c2e6f1b7
Create Date: 2026-12-05 08:20:00.000000

See docs/api.md (Vendors) and CHANGELOG (archiving a vendor, editing and removing contacts).
"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = 'e6c3a9f2b5d8'
down_revision = 'd4a8c2e6f1b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('archived_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_vendor_archived_by_id_user_account'), 'user_account',
                                    ['archived_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('role')
        batch_op.drop_column('language')
    with op.batch_alter_table('vendor', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_vendor_archived_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('archived_by_id')
        batch_op.drop_column('archived_at')
