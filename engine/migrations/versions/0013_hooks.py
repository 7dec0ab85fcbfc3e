"""hook, hook_delivery: webhooks that start or correlate by message, and their deliveries

Revision ID: 0013_hooks
Revises: 0012
Create Date: 2026-12-03 17:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('message', sa.String(length=200), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('correlation_pointer', sa.String(length=500), nullable=True),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=150), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hook')),
    sa.UniqueConstraint('name', name=op.f('uq_hook_name'))
    )
    op.create_table('hook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hook_id', sa.Integer(), nullable=True),
    sa.Column('hook_name', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('accepted_key', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('instance_ids', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['hook_id'], ['hook.id'], name=op.f('fk_hook_delivery_hook_id_hook'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hook_delivery')),
    sa.UniqueConstraint('hook_id', 'accepted_key', name=op.f('uq_hook_delivery_hook_id_accepted_key'))
    )
    with op.batch_alter_table('hook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hook_delivery_hook_id'), ['hook_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('hook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hook_delivery_hook_id'))
    op.drop_table('hook_delivery')
    op.drop_table('hook')
