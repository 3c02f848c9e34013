"""Drives PgBouncer with psycopg 3 or asyncpg, each with its default settings (prepared statements on).

Usage: postgres-clients.py <psycopg|asyncpg> <port> <workers> <transactions per worker>
Environment: PGPASSWORD, PGUSER, PGDATABASE. Prints one JSON line: {"ok": n, "failed": n, "errors": [...]}.
Each transaction inserts a row and reads it back by key; a read that returns another value counts as failed
(a prepared statement of another client would return a wrong row or none).
"""
import asyncio
import json
import os
import sys

LIB, PORT, WORKERS, PER_WORKER = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
INSERT = "INSERT INTO client_rows (lib, worker, seq, v) VALUES ({}, {}, {}, {})"
SELECT = "SELECT v FROM client_rows WHERE lib = {} AND worker = {} AND seq = {}"
result = {"ok": 0, "failed": 0, "errors": []}


def failed(err):
    result["failed"] += 1
    if len(result["errors"]) < 5:
        result["errors"].append(repr(err))


async def psycopg_worker(worker):
    import psycopg
    conn = await psycopg.AsyncConnection.connect(
        host="127.0.0.1", port=PORT, user=os.environ["PGUSER"], dbname=os.environ["PGDATABASE"],
        password=os.environ["PGPASSWORD"])
    ins = INSERT.format(*["%s"] * 4)
    sel = SELECT.format(*["%s"] * 3)
    try:
        for seq in range(PER_WORKER):
            value = f"{LIB}-{worker}-{seq}"
            try:
                async with conn.transaction():
                    await conn.execute(ins, (LIB, worker, seq, value))
                    row = await (await conn.execute(sel, (LIB, worker, seq))).fetchone()
                    if row is None or row[0] != value:
                        raise RuntimeError(f"read back {row!r}, expected {value}")
                result["ok"] += 1
            except Exception as err:  # noqa: BLE001 - every failure is counted and reported
                failed(err)
    finally:
        await conn.close()


async def asyncpg_worker(worker):
    import asyncpg
    conn = await asyncpg.connect(
        host="127.0.0.1", port=PORT, user=os.environ["PGUSER"], database=os.environ["PGDATABASE"],
        password=os.environ["PGPASSWORD"])
    ins = INSERT.format("$1", "$2", "$3", "$4")
    sel = SELECT.format("$1", "$2", "$3")
    try:
        for seq in range(PER_WORKER):
            value = f"{LIB}-{worker}-{seq}"
            try:
                async with conn.transaction():
                    await conn.execute(ins, LIB, worker, seq, value)
                    got = await conn.fetchval(sel, LIB, worker, seq)
                    if got != value:
                        raise RuntimeError(f"read back {got!r}, expected {value}")
                result["ok"] += 1
            except Exception as err:  # noqa: BLE001
                failed(err)
    finally:
        await conn.close()


async def main():
    worker = {"psycopg": psycopg_worker, "asyncpg": asyncpg_worker}[LIB]
    outcomes = await asyncio.gather(*(worker(w) for w in range(WORKERS)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            failed(outcome)
    print(json.dumps(result))


asyncio.run(main())
