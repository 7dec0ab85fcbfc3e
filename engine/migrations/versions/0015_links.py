"""group directory and linked requests: user_group_def.email, instance_link

A group's own e-mail address (``group:<slug>`` mail recipients, engine.directory), and the
link between a request and the requests it started (service operator ``start_request``,
engine.linked).

Revision ID: 0013_links
Revises: 0012
Create Date: 2026-12-03 17:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_group_def', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=300), nullable=True))
    op.create_table('instance_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('bpmn_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['process_instance.id'], name=op.f('fk_instance_link_child_id_process_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['process_instance.id'], name=op.f('fk_instance_link_parent_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_link')),
    sa.UniqueConstraint('child_id', name=op.f('uq_instance_link_child_id'))
    )
    with op.batch_alter_table('instance_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_link_parent_id'), ['parent_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('instance_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_link_parent_id'))
    op.drop_table('instance_link')
    # Not a batch (copy-and-drop) on SQLite: dropping the old table would cascade to the
    # group memberships. SQLite 3.35+ drops a column in place.
    op.drop_column('user_group_def', 'email')
