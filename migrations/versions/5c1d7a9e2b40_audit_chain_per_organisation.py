"""Audit chain per organisation: chain_id on audit_entry, one locked head row per chain

Revision ID: 5c1d7a9e2b40
Revises: c7a1e5d90b21
Create Date: 2026-12-05 03:45:00.000000

Existing entries keep their seq and hashes and become the system chain (chain 0), continued by the
entries without an organisation; each organisation's new entries start a chain of their own.
See docs/audit-log.md.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1d7a9e2b40'
down_revision = 'c7a1e5d90b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('chain_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_id', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_audit_entry_seq'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entry_chain_id'), ['chain_id', 'seq'])
    # The old single chain goes on as the system chain: its head row is its newest entry.
    op.execute("INSERT INTO audit_chain_head (chain_id, seq, hash) "
               "SELECT 0, seq, hash FROM audit_entry "
               "WHERE seq = (SELECT MAX(seq) FROM audit_entry)")


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM audit_entry WHERE chain_id <> 0")).scalar():
        raise RuntimeError("organisations' audit chains cannot be folded back into one chain: "
                           "downgrade only before any organisation entry was written")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entry_chain_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entry_seq'), ['seq'])
        batch_op.drop_column('chain_id')
    op.drop_table('audit_chain_head')
