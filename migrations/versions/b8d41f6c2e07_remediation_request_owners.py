"""Remediation request owners: a buyer member and a vendor contact who follow it up

Revision ID: b8d41f6c2e07
Revises: a3c9e17d5b62
Create Date: 2026-12-05 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d41f6c2e07'
down_revision = 'a3c9e17d5b62'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('remediation_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('vendor_owner_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_remediation_request_buyer_owner_id_user_account'),
                                    'user_account', ['buyer_owner_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_remediation_request_vendor_owner_id_contact'),
                                    'contact', ['vendor_owner_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('remediation_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_remediation_request_vendor_owner_id_contact'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_remediation_request_buyer_owner_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('vendor_owner_id')
        batch_op.drop_column('buyer_owner_id')
