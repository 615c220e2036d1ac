// metrics_http.cpp — see metrics_http.hpp.
#include "server/metrics_http.hpp"

#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

namespace sotto::relay {
namespace {

using asio::awaitable;
using asio::use_awaitable;

constexpr std::size_t kMaxRequestHead = 4096;
constexpr auto kRequestDeadline = std::chrono::seconds(5);

std::string http_response(std::string_view status, std::string_view type, std::string_view body) {
  std::string out = "HTTP/1.0 ";
  out += status;
  out += "\r\nContent-Type: ";
  out += type;
  out += "\r\nContent-Length: " + std::to_string(body.size());
  out += "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

awaitable<void> answer_one(std::shared_ptr<asio::ip::tcp::socket> sp, RenderPage render) {
  auto& socket = *sp;
  auto timer = std::make_shared<asio::steady_timer>(socket.get_executor());
  timer->expires_after(kRequestDeadline);
  timer->async_wait([sp](const std::error_code& ec) {
    if (!ec) {
      std::error_code ignored;
      sp->close(ignored);
    }
  });
  std::string head;
  std::error_code ec;
  std::size_t n =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(head, kMaxRequestHead),
                                      "\r\n\r\n", asio::redirect_error(use_awaitable, ec));
  timer->cancel();
  if (ec || n == 0) co_return;
  const std::string_view line(head.data(), head.find("\r\n"));
  std::string reply;
  if (line.rfind("GET ", 0) != 0) {
    reply = http_response("405 Method Not Allowed", "text/plain", "GET only\n");
  } else {
    const auto end = line.find(' ', 4);
    const std::string_view target =
        line.substr(4, end == std::string_view::npos ? std::string_view::npos : end - 4);
    if (target == "/metrics")
      reply = http_response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render());
    else
      reply = http_response("404 Not Found", "text/plain", "try /metrics\n");
  }
  co_await asio::async_write(socket, asio::buffer(reply), asio::redirect_error(use_awaitable, ec));
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace

Result<void, std::string> open_metrics_acceptor(asio::ip::tcp::acceptor& acceptor,
                                                const HostPort& listen) {
  SOTTO_TRY_VOID(check_metrics_listen(listen));
  std::error_code ec;
  auto address = asio::ip::make_address(listen.host, ec);
  asio::ip::tcp::endpoint endpoint(address, listen.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(16, ec);
  if (ec) return fail("cannot listen for metrics on " + listen.to_string() + ": " + ec.message());
  return {};
}

awaitable<void> serve_metrics(asio::ip::tcp::acceptor& acceptor, RenderPage render) {
  for (;;) {
    std::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;
    }
    // One scrape at a time is plenty; a slow one is cut off by the deadline.
    co_await answer_one(std::make_shared<asio::ip::tcp::socket>(std::move(socket)), render);
  }
}

}  // namespace sotto::relay
