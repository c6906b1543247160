#pragma once

#include <string_view>

namespace aimo::ui {

/// The dashboard: one HTML page with its CSS and script inline, asking only its own origin
/// (the /api/aimo/... endpoints) for data, every second.
std::string_view page_html();
/// The Content-Security-Policy the page is served with: nothing from any other origin.
std::string_view page_policy();

} // namespace aimo::ui
