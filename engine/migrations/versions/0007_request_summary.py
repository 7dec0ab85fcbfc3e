"""request_fact: subject, priority and duplicate link, for the inbox and search

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('request_fact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.String(length=10), nullable=False,
                                      server_default='normal'))
        batch_op.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_request_fact_duplicate_of'), ['duplicate_of'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_request_fact_duplicate_of_process_instance'),
                                    'process_instance', ['duplicate_of'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('request_fact', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_request_fact_duplicate_of_process_instance'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_request_fact_duplicate_of'))
        batch_op.drop_column('duplicate_of')
        batch_op.drop_column('priority')
        batch_op.drop_column('subject')
