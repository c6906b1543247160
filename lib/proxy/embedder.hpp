#pragma once

#include "governance/gate.hpp"
#include "routing/gateway.hpp"

#include <optional>
#include <string>
#include <vector>

namespace aimo::proxy {

/// The semantic cache's embedding calls: `model` ("provider/model", or any name the routing
/// table resolves) asked at its `/embeddings` through the same dispatch as every request
/// (retries, fallbacks, breakers), its cost recorded on the agent's behalf as an "embedding"
/// ledger record. Thread-safe.
class Embedder {
public:
    Embedder(routing::Gateway& gateway, governance::Gate& gate, std::string model)
        : m_gateway(gateway), m_gate(gate), m_model(std::move(model)) {}

    /// The embedding of `text`, or nullopt when the provider could not give one.
    std::optional<std::vector<float>> embed(const std::string& text,
                                            const std::optional<std::string>& agent);

private:
    routing::Gateway& m_gateway;
    governance::Gate& m_gate;
    std::string m_model;
};

} // namespace aimo::proxy
