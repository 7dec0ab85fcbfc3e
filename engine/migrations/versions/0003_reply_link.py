"""reply links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 04:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reply_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('message_name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_payload', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_reply_link_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_reply_link_token_hash'))
    )
    with op.batch_alter_table('reply_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_link_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reply_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_link_instance_id'))
    op.drop_table('reply_link')
