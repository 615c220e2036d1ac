// metrics_http.hpp — a minimal HTTP/1.0 responder for Prometheus: GET /metrics
// answers 200 with the text page, any other path 404, any other method 405,
// then the connection is closed. One request per connection; the request head
// may be at most 4 KiB and must arrive within 5 seconds.
//
// It listens on loopback only (open_metrics_acceptor refuses anything else):
// the page carries no ids or content, but operators should not publish it.
// What fails: opening the acceptor (address in use, not loopback) returns the
// reason; a misbehaving scraper only closes its own connection.
// Ownership: the acceptor and the render function outlive the coroutine; the
// caller closes the acceptor to stop it.
#pragma once

#include <functional>
#include <string>

#include <asio.hpp>

#include "common/result.hpp"
#include "server/config.hpp"

namespace sotto::relay {

using RenderPage = std::function<std::string()>;

[[nodiscard]] Result<void, std::string> open_metrics_acceptor(asio::ip::tcp::acceptor& acceptor,
                                                              const HostPort& listen);

// Accepts scrapers until the acceptor is closed.
asio::awaitable<void> serve_metrics(asio::ip::tcp::acceptor& acceptor, RenderPage render);

}  // namespace sotto::relay
