"""A file sent with the vendor's answer to a clarification, kept as evidence

Revision ID: d4a8c2e6f1b7
Revises: b7e2d4f1a9c3
Create Date: 2026-12-05 07:40:00.000000

See docs/pages-and-messages.md (Clarifications with a file).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a8c2e6f1b7'
down_revision = 'b7e2d4f1a9c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clarification_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_evidence_clarification_id'), ['clarification_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_evidence_clarification_id_clarification'), 'clarification',
                                    ['clarification_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_clarification_id_clarification'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_evidence_clarification_id'))
        batch_op.drop_column('clarification_id')
