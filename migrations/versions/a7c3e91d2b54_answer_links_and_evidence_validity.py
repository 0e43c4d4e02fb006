"""Answer links (answer without an account), sensitive assessments, evidence validity dates

Revision ID: a7c3e91d2b54
Revises: e45fafaa758d
Create Date: 2026-12-05 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = 'a7c3e91d2b54'
down_revision = 'e45fafaa758d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('answer_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=16), nullable=True),
    sa.Column('last_used_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_answer_link_assessment_id_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_answer_link_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_answer_link_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_answer_link_token_hash'))
    )
    with op.batch_alter_table('answer_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_link_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answer_link_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sensitive', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_evidence_expires_on'), ['expires_on'], unique=False)


def downgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_expires_on'))
        batch_op.drop_column('expires_on')
        batch_op.drop_column('effective_on')

    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('sensitive')

    with op.batch_alter_table('answer_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_link_contact_id'))
        batch_op.drop_index(batch_op.f('ix_answer_link_assessment_id'))

    op.drop_table('answer_link')
