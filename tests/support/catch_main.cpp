#define CATCH_CONFIG_RUNNER
#include "core/context.hpp"

#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
    aimo::core::ignore_broken_pipes(); // as app/main.cpp does: tests talk TLS to peers that hang up
    return Catch::Session().run(argc, argv);
}
