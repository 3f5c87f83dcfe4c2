"""A 400 on a whole bulk batch is split in halves until the bad profile is alone: its neighbours go
through. Against a small real HTTP server on loopback that refuses any batch holding a poisoned
profile (the simulator judges bulk profiles one by one, so it never refuses a whole batch)."""
from __future__ import annotations

import json

from aiohttp import web
from sync_kit import loyalty, send, valid_row, write_jsonl

from tui.sync.history import HistoryStore
from tui.sync.rejections import RejectionLog

POISON = "member77@example.com"


async def start_strict_attentive(posts: list[int]) -> tuple[web.AppRunner, str]:
    jobs: dict[str, list] = {}

    async def me(request: web.Request) -> web.Response:
        return web.json_response({"applicationName": "strict", "companyName": "Strict Co", "attentiveDomainName": "s",
                                  "contactEmail": "ops@example.com", "companyId": "1"})

    async def bulk(request: web.Request) -> web.Response:
        users = (await request.json())["users"]
        posts.append(len(users))
        if any(u["identifiers"].get("email") == POISON for u in users):
            return web.Response(status=400, text="users[].attributes.custom: value not allowed")
        job_id = str(len(jobs) + 1)
        jobs[job_id] = users
        return web.json_response({"message": "ok", "batchJobId": job_id}, status=202)

    async def job(request: web.Request) -> web.Response:
        job_id = request.match_info["id"]
        return web.json_response({"bulkJobId": job_id, "status": "COMPLETED", "totalRecords": len(jobs[job_id]),
                                  "url": f"/results/{job_id}.jsonl"})

    async def results(request: web.Request) -> web.Response:
        lines = [json.dumps({"request": u, "response": {"status": 200, "message": "OK"}}) for u in jobs[request.match_info["id"]]]
        return web.Response(text="\n".join(lines) + "\n")

    app = web.Application()
    app.add_routes([web.get("/v1/me", me), web.post("/v2/bulk/user/attributes", bulk),
                    web.get("/v2/bulk/job/{id}", job), web.get("/results/{id}.jsonl", results)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


class StrictServer:
    """What sync_kit.send needs of a server: its URL and a key."""

    def __init__(self, url: str):
        self.url = url
        self.full_key = "strict-key-0001"


async def test_a_refused_batch_is_split_until_the_bad_profile_is_alone(tmp_path):
    posts: list[int] = []
    runner, url = await start_strict_attentive(posts)
    try:
        source = write_jsonl(tmp_path / "audience.jsonl", [valid_row(i) for i in range(300)])
        result = await send(StrictServer(url), tmp_path / "data", loyalty(), source)
    finally:
        await runner.cleanup()
    run = result.run
    assert (run.status, run.accepted, run.rejected) == ("finished", 299, 1)
    # 256 + 44 first; then halves down to the one profile: 128, 128, 64, 64, ..., 1, 1.
    assert posts[:2] == [256, 44] or sorted(posts[:2]) == [44, 256]
    assert sorted(posts[2:], reverse=True) == [128, 128, 64, 64, 32, 32, 16, 16, 8, 8, 4, 4, 2, 2, 1, 1]
    with HistoryStore(tmp_path / "data") as store:
        [refused] = RejectionLog(store.connection, run.id).page()
    assert (refused.identifier, refused.status, refused.message) == (
        POISON, 400, "users[].attributes.custom: value not allowed")
