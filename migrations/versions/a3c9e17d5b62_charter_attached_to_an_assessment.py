"""A vendor's published GDPR charter attached to an assessment as evidence

Revision ID: a3c9e17d5b62
Revises: 5c1d7a9e2b40
Create Date: 2026-12-05 05:10:00.000000

See docs/compliance-kit.md.
"""
from alembic import op
import sqlalchemy as sa

import vendorcheck.models.base


# revision identifiers, used by Alembic.
revision = 'a3c9e17d5b62'
down_revision = '5c1d7a9e2b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_charter_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('charter_version_id', sa.Integer(), nullable=False),
    sa.Column('attached_by_id', sa.Integer(), nullable=True),
    sa.Column('attached_at', vendorcheck.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_assessment_charter_link_assessment_id_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['attached_by_id'], ['user_account.id'], name=op.f('fk_assessment_charter_link_attached_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['charter_version_id'], ['charter_version.id'], name=op.f('fk_assessment_charter_link_charter_version_id_charter_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_charter_link')),
    sa.UniqueConstraint('assessment_id', name=op.f('uq_assessment_charter_link_assessment_id'))
    )
    with op.batch_alter_table('assessment_charter_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_charter_link_charter_version_id'), ['charter_version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assessment_charter_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_charter_link_charter_version_id'))

    op.drop_table('assessment_charter_link')
