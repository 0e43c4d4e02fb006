"""Single sign-on: each organisation's identity provider, and SAML assertion ids already used

Revision ID: 5c0e1a9d7b21
Revises: c7f3a9d2e581
Create Date: 2026-12-05 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = '5c0e1a9d7b21'
down_revision = 'c7f3a9d2e581'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sso_config',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('protocol', sa.Enum('oidc', 'saml', name='sso_protocol', native_enum=False, length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('allowed_domains', sa.JSON(), nullable=False),
    sa.Column('role_claim', sa.String(length=200), nullable=False),
    sa.Column('role_map', sa.JSON(), nullable=False),
    sa.Column('default_role', sa.Enum('admin', 'assessor', 'legal', 'contributor', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('jit_provisioning', sa.Boolean(), nullable=False),
    sa.Column('sso_required', sa.Boolean(), nullable=False),
    sa.Column('break_glass_user_id', sa.Integer(), nullable=True),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=300), nullable=False),
    sa.Column('client_secret_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('idp_metadata_xml', sa.Text(), nullable=False),
    sa.Column('idp_metadata_url', sa.String(length=500), nullable=False),
    sa.Column('idp_entity_id', sa.String(length=500), nullable=False),
    sa.Column('updated_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['break_glass_user_id'], ['user_account.id'], name=op.f('fk_sso_config_break_glass_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_sso_config_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_config')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_sso_config_organisation_id'))
    )
    op.create_table('saml_seen_assertion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assertion_id', sa.String(length=300), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_saml_seen_assertion_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saml_seen_assertion')),
    sa.UniqueConstraint('assertion_id', name=op.f('uq_saml_seen_assertion_assertion_id'))
    )
    with op.batch_alter_table('saml_seen_assertion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saml_seen_assertion_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('saml_seen_assertion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saml_seen_assertion_expires_at'))
    op.drop_table('saml_seen_assertion')
    op.drop_table('sso_config')
