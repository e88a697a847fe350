"""The worker across a broker restart (contract section 4, Delivery): after
`kill -9` of the broker, workers keep their sockets, re-register and re-sync
every joined room from their last seq: no hole, no duplicate, no second
hello or joined frame. While the broker is away, sends get `unavailable`."""

import asyncio
import time

import pytest

from test_ws_client import WS, client_id, make_room, run, send_many
from test_ws_order import collect, contiguous


@pytest.mark.disruptive
def test_broker_restart_resyncs_rooms(stack, new_user):
    sender, reader = new_user(), new_user()
    room = make_room(sender)

    async def scenario():
        rws = await WS.hello(stack, reader)
        await rws.join(room)
        sws = await WS.hello(stack, sender)
        await send_many(sws, room, ["before %d" % i for i in range(5)])
        before = await collect(rws, room, 5)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, stack.svc, "kill", "broker")
        try:
            # While it is away: unavailable, and the sockets stay open.
            await asyncio.sleep(0.5)
            cid = client_id("away")
            await sws.send({"type": "send", "room": room, "body": "lost", "client_id": cid})
            f = await sws.expect("error")
            assert f["code"] == "unavailable" and f["ref"] == cid, f
            await rws.alive()
        finally:
            await loop.run_in_executor(None, stack.svc, "start", "broker")
        # Back: sends work again (the worker re-authenticated by itself).
        end = time.monotonic() + 15
        while True:
            cid = client_id("back")
            await sws.send({"type": "send", "room": room, "body": "after", "client_id": cid})
            f = await sws.recv(5)
            if f["type"] == "ack":
                break
            assert f["type"] in ("error", "message", "presence", "ping"), f
            assert time.monotonic() < end, "broker not back"
            await asyncio.sleep(0.5)
        await send_many(sws, room, ["after %d" % i for i in range(5)])
        after = await collect(rws, room, 6, forbid=("hello", "joined"))
        contiguous(before + after, room)
        await rws.quiet(0.5)
        await rws.close()
        await sws.close()
    run(scenario(), timeout=90)
