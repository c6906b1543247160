// The scheduler alone, for bench/run.sh: what taking and returning a turn costs a request that
// never waits, at a provider without limits and at one with limits it never reaches (whose
// rpm/tpm windows fill up to a minute's worth of entries as they would in service).
//
//   aimo_bench_scheduler [REQUESTS]   -> "unlimited_us limited_us"
#include "sched/scheduler.hpp"

#include <cstdio>
#include <cstdlib>

using namespace aimo::sched;

namespace {
double per_request_us(bool limited, int requests) {
    Scheduler scheduler;
    Limits limits;
    if (limited) {
        limits.max_in_flight = 100000;
        limits.rpm = 1000000;
        limits.tpm = 2000000000;
    }
    auto start = Clock::now();
    for (int i = 0; i < requests; ++i) {
        Ask ask;
        ask.provider = "aimo";
        ask.provider_limits = limits;
        ask.model = "deepseek/deepseek-v3.2";
        ask.tokens = 100;
        auto ticket = scheduler.enter(std::move(ask));
        ticket->sent();
        ticket->used(120);
    }
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / requests;
}
} // namespace

int main(int argc, char** argv) {
    int requests = argc > 1 ? std::atoi(argv[1]) : 500000;
    per_request_us(true, requests / 10); // warm up the allocator
    double unlimited = per_request_us(false, requests);
    double limited = per_request_us(true, requests);
    std::printf("%.3f %.3f\n", unlimited, limited);
}
