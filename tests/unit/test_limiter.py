import asyncio

from system.producer.resilience.limiter import RateLimiter


def test_unlimited_never_waits():
    limiter = RateLimiter()
    assert not limiter.limited and limiter.has_capacity(10**9)
    assert asyncio.run(limiter.acquire(10**9)) < 0.1


def test_requests_per_minute_capacity_runs_out():
    async def scenario() -> tuple[bool, bool]:
        limiter = RateLimiter(rpm=3)
        for _ in range(3):
            await limiter.acquire()
        return limiter.limited, limiter.has_capacity()

    limited, room = asyncio.run(scenario())
    assert limited and not room


def test_tokens_per_minute_and_debt():
    async def scenario() -> list[bool]:
        limiter = RateLimiter(tpm=1000)
        seen = [limiter.has_capacity(600)]
        await limiter.acquire(600)
        seen.append(limiter.has_capacity(600))  # 600 + 600 > 1000
        limiter.settle(estimated_tokens=600, used_tokens=900)  # 300 more than reserved
        seen.append(limiter.has_capacity(200))  # 200 + 300 debt does not fit beside 600
        return seen

    assert asyncio.run(scenario()) == [True, False, False]


def test_budget_under_one_per_minute_is_accepted():
    async def scenario() -> tuple[bool, bool]:
        limiter = RateLimiter(rpm=0.5)  # one request per two minutes
        before = limiter.has_capacity()
        await limiter.acquire()
        return before, limiter.has_capacity()

    assert asyncio.run(scenario()) == (True, False)
