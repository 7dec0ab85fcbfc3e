"""canned_answer.body_en: the English text of a canned answer, for requesters who chose English

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 15:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('canned_answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_en', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('canned_answer', schema=None) as batch_op:
        batch_op.drop_column('body_en')
