#include "crypto/encoding.hpp"
#include "governance/ledger.hpp"

#include <catch2/catch.hpp>

using namespace aimo;

TEST_CASE("a record's chain hash covers every field in the stored layout", "[ledger]") {
    governance::StoredRecord stored;
    stored.prev_hash = governance::genesis_hash;
    stored.seq = 7;
    stored.record = {"2026-11-21T10:00:00.123Z",
                     "req_00000000000000ff",
                     "bench",
                     "deepseek/v3",
                     "aimo",
                     200,
                     9,
                     2,
                     0.000123456789,
                     1234};
    // The layout every database's hashes were made from: changing it breaks `audit verify`.
    const std::string layout = governance::genesis_hash +
                               "\n7\n2026-11-21T10:00:00.123Z\nreq_00000000000000ff\nbench\n"
                               "deepseek/v3\naimo\n200\n9\n2\n0.000123456789\n1234";
    CHECK(governance::chain_hash(stored) == crypto::sha256_hex(layout));

    auto edited = stored;
    edited.record.cost_usd = 0.000123456788;
    CHECK(governance::chain_hash(edited) != governance::chain_hash(stored));
    edited = stored;
    edited.record.status = -1;
    CHECK(governance::chain_hash(edited) ==
          crypto::sha256_hex(layout.substr(0, layout.find("\n200\n")) + "\n-1\n" +
                             layout.substr(layout.find("\n200\n") + 5)));

    // Schema 3's flag joins the text only when set: records stored before it keep their hash.
    edited = stored;
    edited.record.over_reservation = true;
    CHECK(governance::chain_hash(edited) == crypto::sha256_hex(layout + "\nover_reservation"));
}
