"""requester_status: the requester-facing status history of each request

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'requester_status',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('bpmn_id', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('shown', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_requester_status_instance_id_process_instance'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_requester_status')),
    )
    op.create_index('ix_requester_status_instance_at', 'requester_status', ['instance_id', 'created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_requester_status_instance_at', table_name='requester_status')
    op.drop_table('requester_status')
