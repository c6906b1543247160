#include "routing/resilience.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using namespace aimo::routing;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("only 429 and 5xx gateway-type statuses are retryable", "[retry]") {
    for (int status : {429, 500, 502, 503, 504}) {
        CHECK(retryable_status(status));
    }
    for (int status : {200, 400, 401, 402, 403, 404, 409, 422, 501}) {
        CHECK_FALSE(retryable_status(status));
    }
}

TEST_CASE("Retry-After is read as milliseconds, seconds or an HTTP date", "[retry]") {
    auto now = std::chrono::system_clock::from_time_t(1'700'000'000); // Tue, 14 Nov 2023 22:13:20
    CHECK(retry_after({{"retry-after", "7"}}, now) == milliseconds(7000));
    CHECK(retry_after({{"retry-after-ms", "250"}, {"retry-after", "7"}}, now) == milliseconds(250));
    CHECK(retry_after({{"retry-after", "Tue, 14 Nov 2023 22:13:30 GMT"}}, now) ==
          milliseconds(10'000));
    CHECK(retry_after({{"retry-after", "Tue, 14 Nov 2023 22:00:00 GMT"}}, now) == milliseconds(0));
    CHECK_FALSE(retry_after({{"retry-after", "soon"}}, now));
    CHECK_FALSE(retry_after({{"retry-after", "-3"}}, now));
    CHECK_FALSE(retry_after({}, now));
    CHECK(retry_after({{"retry-after-ms", "x"}, {"retry-after", "2"}}, now) == milliseconds(2000));
}

TEST_CASE("backoff doubles up to its cap, scaled by jitter", "[retry]") {
    RetryPolicy policy;
    policy.backoff_initial = milliseconds(100);
    policy.backoff_max = milliseconds(1000);
    CHECK(backoff_delay(policy, 1, 1.0) == milliseconds(100));
    CHECK(backoff_delay(policy, 2, 1.0) == milliseconds(200));
    CHECK(backoff_delay(policy, 4, 1.0) == milliseconds(800));
    CHECK(backoff_delay(policy, 5, 1.0) == milliseconds(1000));
    CHECK(backoff_delay(policy, 50, 1.0) == milliseconds(1000));
    CHECK(backoff_delay(policy, 3, 0.5) == milliseconds(200));
    CHECK(backoff_delay(policy, 3, 0.0) == milliseconds(0));
}

TEST_CASE("the circuit opens after consecutive failures and lets one probe through", "[breaker]") {
    CircuitBreaker breaker({3, seconds(10)});
    auto t0 = std::chrono::steady_clock::now();
    breaker.record(false, t0);
    breaker.record(true, t0); // a success resets the count
    breaker.record(false, t0);
    breaker.record(false, t0);
    CHECK(breaker.allow(t0));
    breaker.record(false, t0);
    CHECK(breaker.is_open());
    CHECK_FALSE(breaker.allow(t0 + seconds(9)));
    CHECK(breaker.retry_in(t0 + seconds(4)) == seconds(6));

    CHECK(breaker.allow(t0 + seconds(10)));       // the probe
    CHECK_FALSE(breaker.allow(t0 + seconds(10))); // only one at a time
    breaker.record(false, t0 + seconds(11));      // a failed probe re-opens at once
    CHECK_FALSE(breaker.allow(t0 + seconds(20)));
    CHECK(breaker.allow(t0 + seconds(21)));
    breaker.abandon(); // its client left: another request may probe
    CHECK(breaker.allow(t0 + seconds(21)));
    breaker.record(true, t0 + seconds(22));
    CHECK_FALSE(breaker.is_open());
    CHECK(breaker.allow(t0 + seconds(22)));

    CircuitBreaker off({0, seconds(10)});
    for (int i = 0; i < 10; ++i) {
        off.record(false, t0);
    }
    CHECK(off.allow(t0));
}
