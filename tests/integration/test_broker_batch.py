"""The broker's group commit (broker/README.md, "Group commit"): sends that
arrive together share one transaction and one statement (store.c,
S_SENDS), yet each gets its own verdict, exactly as if it were alone: a
resend within the burst or of a stored message gets the original ack, a
public room the sender has not joined gets not_member, a private room
not_found, a direct room whose other user blocks the sender not_reachable,
and the room's seqs stay contiguous with the senders' acks in order."""

import asyncio

from test_ws_client import WS, client_id, make_room, run


def test_burst_gets_one_verdict_each(stack, new_user):
    a, b, c = new_user(), new_user(), new_user()
    room = make_room(a)            # a and c send here
    old_room = make_room(a)        # holds a message sent earlier
    public = make_room(b)          # a never joins it
    private = make_room(b, kind="private")
    r = a.session.post("/api/dm", json={"username": b.username})
    assert r.status_code in (200, 201), r.text
    direct = r.json()["id"]
    r = b.session.post("/api/blocks", json={"username": a.username})
    assert r.status_code == 204, r.text

    c1, c2, c3 = client_id("a1"), client_id("a2"), client_id("a3")
    cq, cp, cd = client_id("q"), client_id("p"), client_id("d")

    async def scenario():
        wa = await WS.hello(stack, a)
        wc = await WS.hello(stack, c)
        await wc.join(room)  # public: joining makes c a member
        old = await wa.send_msg(old_room, "stored before", client_id("old"))
        frames = [
            (room, "one", c1), (room, "two", c2), (room, "one", c1),
            (public, "x", cq), (private, "x", cp), (direct, "x", cd),
            (old_room, "stored before", old["client_id"]), (room, "three", c3),
        ]
        cfr = [(room, "from c %d" % i, client_id("c%d" % i)) for i in range(8)]
        # everything written before any answer is read: one or two batches
        for (rm, body, cid) in frames:
            await wa.send({"type": "send", "room": rm, "body": body, "client_id": cid})
        for (rm, body, cid) in cfr:
            await wc.send({"type": "send", "room": rm, "body": body, "client_id": cid})

        async def answers(ws, n):
            got = []
            while len(got) < n:
                f = await ws.recv(20)
                if f["type"] in ("ack", "error"):
                    got.append(f)
            return got
        ga, gc = await asyncio.gather(answers(wa, len(frames)), answers(wc, len(cfr)))
        await wa.close()
        await wc.close()
        return old, ga, gc

    old, ga, gc = run(scenario())
    acks = [f for f in ga if f["type"] == "ack"]
    errs = {f["ref"]: f["code"] for f in ga if f["type"] == "error"}
    assert errs == {cq: "not_member", cp: "not_found", cd: "not_reachable"}, ga
    a1 = [f for f in acks if f["client_id"] == c1]
    assert len(a1) == 2 and a1[0]["id"] == a1[1]["id"] and a1[0]["seq"] == a1[1]["seq"], acks
    resent = [f for f in acks if f["client_id"] == old["client_id"]]
    assert len(resent) == 1 and resent[0]["id"] == old["id"] and resent[0]["seq"] == old["seq"], acks
    assert resent[0]["created_at"] == old["created_at"], (resent, old)
    mine = [f["seq"] for f in acks if f["room"] == room]
    # acks come in send order; a's three messages rise in that order
    assert [f["client_id"] for f in acks if f["room"] == room] == [c1, c2, c1, c3], acks
    assert mine[0] == mine[2] and mine[0] < mine[1] < mine[3], acks
    theirs = [f["seq"] for f in gc]
    assert all(f["type"] == "ack" for f in gc) and theirs == sorted(theirs), gc
    seqs = sorted(set(mine) | set(theirs))
    assert seqs == list(range(1, 12)), seqs  # 3 from a, 8 from c: no gap
    r = a.session.get("/api/rooms/%d/messages?limit=50" % room)
    assert r.status_code == 200
    assert [m["seq"] for m in r.json()["messages"]] == list(range(1, 12))
    for rm in (public, private):
        r = b.session.get("/api/rooms/%d/messages" % rm)
        assert r.status_code == 200 and r.json()["messages"] == [], r.text
    r = a.session.get("/api/rooms/%d/messages" % old_room)
    assert [m["body"] for m in r.json()["messages"]] == ["stored before"]
    # sending moved a's read marker to its last message (contract section 8)
    r = a.session.get("/api/rooms/%d/members" % room)
    me = [m for m in r.json()["members"] if m["id"] == a.id]
    assert me and me[0]["last_read_seq"] == mine[3], (me, mine)
