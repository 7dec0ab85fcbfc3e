"""org_unit.head_group_id: the group of a unit's heads, for scoped approvals

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_group_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_org_unit_head_group_id_user_group_def'),
                                    'user_group_def', ['head_group_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_org_unit_head_group_id_user_group_def'), type_='foreignkey')
        batch_op.drop_column('head_group_id')
