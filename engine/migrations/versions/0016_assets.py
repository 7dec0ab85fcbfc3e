"""assets: the asset registry (asset) and its history (asset_change)

Revision ID: 0013_assets
Revises: 0012
Create Date: 2026-12-03 17:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inventory_no', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=100), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=False),
    sa.Column('room', sa.String(length=60), nullable=False),
    sa.Column('rack', sa.String(length=40), nullable=False),
    sa.Column('rack_unit', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('owner_unit', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset')),
    sa.UniqueConstraint('inventory_no', name=op.f('uq_asset_inventory_no'))
    )
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_asset_serial'), ['serial'], unique=False)
        batch_op.create_index(batch_op.f('ix_asset_status'), ['status'], unique=False)
    op.create_table('asset_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=150), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_asset_change_asset_id_asset'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_change'))
    )
    with op.batch_alter_table('asset_change', schema=None) as batch_op:
        batch_op.create_index('ix_asset_change_asset_id', ['asset_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asset_change_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('asset_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_change_instance_id'))
        batch_op.drop_index('ix_asset_change_asset_id')
    op.drop_table('asset_change')
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_status'))
        batch_op.drop_index(batch_op.f('ix_asset_serial'))
        batch_op.drop_index(batch_op.f('ix_asset_kind'))
    op.drop_table('asset')
