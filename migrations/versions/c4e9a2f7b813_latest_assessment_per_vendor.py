"""The latest assessment per vendor (assessment.is_latest), and the indexes of the history's sorts

Revision ID: c4e9a2f7b813
Revises: a3f7c1e9d4b2
Create Date: 2026-12-05 10:45:00.000000

The buyer dashboard lists each vendor's latest assessment by default (10,000 rows for a buyer with
100,000 assessments). The latest is the vendor's newest assessment that is not cancelled, else its
newest (vendorcheck.models.assessments.latest_of_vendor); the model keeps the flag on every send,
cancellation and deletion. The unique partial index allows one flagged row per vendor.

"All assessments (history)" sorted on a column reads ix_assessment_buyer_<column> (buyer, column,
id) in order instead of sorting all the buyer's assessments; the status and tier indexes gain the id.

On SQLite only the downgrade copies `assessment`; reflecting it also reflects `vendor`, whose expression
index ix_vendor_buyer_name SQLAlchemy cannot reflect and warns about. `vendor` is not copied, so the
index stays: the warning is silenced for that step only.
"""
import warnings

from alembic import op
import sqlalchemy as sa


SORTED = ('progress', 'score', 'open_findings', 'due_date', 'next_review_date', 'sent_at')
EXTENDED = ('status', 'tier')  # existing (buyer_org_id, column) indexes, now ending with the id

# revision identifiers, used by Alembic.
revision = 'c4e9a2f7b813'
down_revision = 'a3f7c1e9d4b2'
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: SQLite adds a column with a default, and an index, in place, without
    # reflecting and copying the table (which would lose vendor's expression index, see above).
    op.add_column('assessment', sa.Column('is_latest', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
    _backfill()
    op.create_index('ix_assessment_latest_vendor', 'assessment', ['vendor_id'], unique=True,
                    postgresql_where=sa.text('is_latest'), sqlite_where=sa.text('is_latest'))
    for column in EXTENDED:
        op.drop_index(f'ix_assessment_buyer_{column}', table_name='assessment')
    for column in EXTENDED + SORTED:
        op.create_index(f'ix_assessment_buyer_{column}', 'assessment', ['buyer_org_id', column, 'id'],
                        unique=False)


def _backfill():
    """Flag each vendor's newest assessment that is not cancelled, else its newest."""
    assessment = sa.table('assessment', sa.column('id', sa.Integer), sa.column('vendor_id', sa.Integer),
                          sa.column('status', sa.String), sa.column('is_latest', sa.Boolean))
    other = assessment.alias('other')
    latest = (sa.select(other.c.id).where(other.c.vendor_id == assessment.c.vendor_id)
              .order_by(sa.case((other.c.status == 'cancelled', 1), else_=0), other.c.id.desc())
              .limit(1).scalar_subquery())
    op.execute(assessment.update().where(assessment.c.id == latest).values(is_latest=sa.true()))


def downgrade():
    for column in EXTENDED + SORTED:
        op.drop_index(f'ix_assessment_buyer_{column}', table_name='assessment')
    for column in EXTENDED:
        op.create_index(f'ix_assessment_buyer_{column}', 'assessment', ['buyer_org_id', column],
                        unique=False)
    op.drop_index('ix_assessment_latest_vendor', table_name='assessment')
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection of expression-based index',
                                sa.exc.SAWarning)
        with op.batch_alter_table('assessment', schema=None) as batch_op:
            batch_op.drop_column('is_latest')
