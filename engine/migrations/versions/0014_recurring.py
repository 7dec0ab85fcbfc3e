"""recurring: schedules of timer start events with a cycle, and the periods they started

Revision ID: 0013_recurring
Revises: 0012
Create Date: 2026-12-03 17:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recurring_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=False),
    sa.Column('start_event', sa.String(length=200), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.String(length=200), nullable=False),
    sa.Column('working_day', sa.String(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('next_period', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_index', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('last_period', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_instance_id', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'],
                            name=op.f('fk_recurring_schedule_definition_id_process_definition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_schedule')),
    sa.UniqueConstraint('process_key', 'start_event', name=op.f('uq_recurring_schedule_process_key_start_event'))
    )
    op.create_table('recurring_start',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=False),
    sa.Column('start_event', sa.String(length=200), nullable=False),
    sa.Column('period', sa.DateTime(timezone=True), nullable=False),
    sa.Column('missed_periods', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_recurring_start_instance_id_process_instance'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_start')),
    sa.UniqueConstraint('process_key', 'start_event', 'period',
                        name=op.f('uq_recurring_start_process_key_start_event_period'))
    )


def downgrade() -> None:
    op.drop_table('recurring_start')
    op.drop_table('recurring_schedule')
