"""peer API keys encrypted at rest (rows written before are sealed), and how each peer is reached (transport)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:30:00.000000

Peers configured before keep being reached as they were: in plaintext (transport mode plaintext).
The keys come from KRING_FEDERATION_KEYS in the environment the migration runs in (the migrate Job mounts the
same Secret as the federation service). Without it the column is widened and existing rows stay as they were:
they still read, and `kring federation-keys reencrypt` seals them once the setting is there.
"""
import logging

import sqlalchemy as sa
from alembic import op

from services.common.config import Settings
from services.common.keys_at_rest import KeysAtRest

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
peers = sa.table('peers', sa.column('instance_id', sa.String), sa.column('api_key', sa.Text),
                 sa.column('transport', sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table('peers', schema=None) as batch_op:
        batch_op.alter_column('api_key', existing_type=sa.String(length=512), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('transport', sa.JSON(), nullable=True))
    connection = op.get_bind()
    connection.execute(sa.update(peers).values(transport={"mode": "plaintext"}))
    setting = Settings().federation_keys
    keys = KeysAtRest.from_setting(setting.get_secret_value() if setting is not None else None)
    rows = connection.execute(sa.select(peers.c.instance_id, peers.c.api_key)).all()
    plain = [(instance_id, key) for instance_id, key in rows if not KeysAtRest.is_sealed(key)]
    if not plain:
        return
    if not keys.configured:
        log.warning("federation: %d peer API key(s) stay unencrypted: KRING_FEDERATION_KEYS is not set here; "
                    "set it and run `kring federation-keys reencrypt`", len(plain))
        return
    for instance_id, key in plain:
        connection.execute(sa.update(peers).where(peers.c.instance_id == instance_id)
                           .values(api_key=keys.seal(key)))


def downgrade() -> None:
    setting = Settings().federation_keys
    keys = KeysAtRest.from_setting(setting.get_secret_value() if setting is not None else None)
    connection = op.get_bind()
    for instance_id, key in connection.execute(sa.select(peers.c.instance_id, peers.c.api_key)).all():
        if KeysAtRest.is_sealed(key):
            connection.execute(sa.update(peers).where(peers.c.instance_id == instance_id)
                               .values(api_key=keys.open(key)))
    with op.batch_alter_table('peers', schema=None) as batch_op:
        batch_op.drop_column('transport')
        batch_op.alter_column('api_key', existing_type=sa.Text(), type_=sa.String(length=512),
                              existing_nullable=False)
