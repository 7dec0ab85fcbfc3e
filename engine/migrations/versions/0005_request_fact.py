"""reports: request_fact, the per-request summary row

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('request_fact',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_answer_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_answer_seconds', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_seconds', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_met', sa.Boolean(), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('call_outcome', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_request_fact_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_request_fact'))
    )
    with op.batch_alter_table('request_fact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_fact_received_at'), ['received_at'], unique=False)
        batch_op.create_index('ix_request_fact_received_process', ['received_at', 'process_key'], unique=False)

    # Instances started before this revision: received, status and (completed ones)
    # resolved, so the reports count them; the finer figures start with new requests.
    op.execute(
        "INSERT INTO request_fact (instance_id, process_key, status, received_at, resolved_at, reopened) "
        "SELECT id, process_key, status, created_at, "
        "CASE WHEN status = 'completed' THEN completed_at END, 0 FROM process_instance"
    )


def downgrade() -> None:
    with op.batch_alter_table('request_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_request_fact_received_process')
        batch_op.drop_index(batch_op.f('ix_request_fact_received_at'))

    op.drop_table('request_fact')
