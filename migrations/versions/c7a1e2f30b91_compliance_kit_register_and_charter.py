"""Compliance kit: register controllers and versions, published GDPR charters

Revision ID: c7a1e2f30b91
Revises: a7c3e91d2b54
Create Date: 2026-12-05 03:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = 'c7a1e2f30b91'
down_revision = "a7c3e91d2b54"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kit_controller',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_org_id', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('dpo', sa.String(length=300), nullable=False),
    sa.Column('eu_representative', sa.String(length=300), nullable=False),
    sa.Column('categories', sa.Text(), nullable=False),
    sa.Column('created_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organisation.id'], name=op.f('fk_kit_controller_buyer_org_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_org_id'], ['organisation.id'], name=op.f('fk_kit_controller_vendor_org_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kit_controller'))
    )
    with op.batch_alter_table('kit_controller', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kit_controller_vendor_org_id'), ['vendor_org_id'], unique=False)

    op.create_table('register_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_org_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_register_version_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_org_id'], ['organisation.id'], name=op.f('fk_register_version_vendor_org_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_version')),
    sa.UniqueConstraint('vendor_org_id', 'number', name=op.f('uq_register_version_vendor_org_id'))
    )
    with op.batch_alter_table('register_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_version_vendor_org_id'), ['vendor_org_id'], unique=False)

    op.create_table('charter_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_org_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('published_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_charter_version_published_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vendor_org_id'], ['organisation.id'], name=op.f('fk_charter_version_vendor_org_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charter_version')),
    sa.UniqueConstraint('vendor_org_id', 'number', name=op.f('uq_charter_version_vendor_org_id'))
    )
    with op.batch_alter_table('charter_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charter_version_vendor_org_id'), ['vendor_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_charter_version_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('charter_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charter_version_sha256'))
        batch_op.drop_index(batch_op.f('ix_charter_version_vendor_org_id'))
    op.drop_table('charter_version')
    with op.batch_alter_table('register_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_version_vendor_org_id'))
    op.drop_table('register_version')
    with op.batch_alter_table('kit_controller', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kit_controller_vendor_org_id'))
    op.drop_table('kit_controller')
