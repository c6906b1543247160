// Fills the response cache's in-memory store with COUNT answers of SIZE bytes under a byte
// budget of BUDGET bytes and prints what it holds next to the process's resident memory:
//   aimo_bench_cache_fill COUNT SIZE BUDGET  ->  "entries accounted_bytes budget rss_growth_bytes"
#include "cache/store.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace {
long rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::atol(line.c_str() + 6) * 1024;
        }
    }
    return 0;
}
} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: aimo_bench_cache_fill COUNT SIZE BUDGET\n");
        return 2;
    }
    long count = std::atol(argv[1]);
    size_t size = std::strtoull(argv[2], nullptr, 10);
    size_t budget = std::strtoull(argv[3], nullptr, 10);
    long before = rss_bytes();
    aimo::cache::Store store(budget, 0);
    for (long i = 0; i < count; ++i) {
        auto entry = std::make_shared<aimo::cache::Entry>();
        char key[65];
        std::snprintf(key, sizeof key, "%064lx", i); // a SHA-256 hex key's length
        entry->key = key;
        entry->space = "agent-" + std::to_string(i % 8);
        entry->completion.assign(size, 'x');
        entry->provider = "aimo";
        entry->model = "deepseek/deepseek-v3.2";
        entry->created = 1'800'000'000;
        store.put(std::move(entry));
    }
    auto totals = store.totals();
    std::printf("%zu %zu %zu %ld\n", totals.entries, totals.bytes, budget, rss_bytes() - before);
    return 0;
}
