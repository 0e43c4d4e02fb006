"""Second factors: TOTP secrets, recovery codes, passkeys, and the organisation's "MFA required"

Revision ID: c7f3a9d2e581
Revises: 5c0e7d1a9b2f
Create Date: 2026-12-05 03:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = 'c7f3a9d2e581'
down_revision = '5c0e7d1a9b2f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mfa_totp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mfa_totp_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mfa_totp')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mfa_totp_user_id'))
    )
    op.create_table('mfa_recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mfa_recovery_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mfa_recovery_code'))
    )
    with op.batch_alter_table('mfa_recovery_code', schema=None) as batch_op:
        batch_op.create_index('ix_mfa_recovery_code_user', ['user_id'], unique=False)
    op.create_table('mfa_passkey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.LargeBinary(length=1024), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('transports', sa.String(length=200), nullable=False),
    sa.Column('created_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mfa_passkey_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mfa_passkey')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_mfa_passkey_credential_id'))
    )
    with op.batch_alter_table('mfa_passkey', schema=None) as batch_op:
        batch_op.create_index('ix_mfa_passkey_user', ['user_id'], unique=False)
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_required', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('mfa_required')
    with op.batch_alter_table('mfa_passkey', schema=None) as batch_op:
        batch_op.drop_index('ix_mfa_passkey_user')
    op.drop_table('mfa_passkey')
    with op.batch_alter_table('mfa_recovery_code', schema=None) as batch_op:
        batch_op.drop_index('ix_mfa_recovery_code_user')
    op.drop_table('mfa_recovery_code')
    op.drop_table('mfa_totp')
