// Copyright 2026 The Trainyard Authors.

#include "tools/bench/beast_front.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace trainyard::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kWebhookPrefix = "/v1/webhooks/runpod/";
constexpr std::chrono::seconds kRequestDeadline(10);  // header_timeout
constexpr std::chrono::seconds kKeepAlive(5);         // keep_alive_timeout
constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxBodyBytes = 1 << 20;

// One connection: read a request (header and body within kRequestDeadline),
// answer, again while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::atomic<int64_t>& open)
      : stream_(std::move(socket)), open_(open) {
    ++open_;
  }
  ~Session() { --open_; }

  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(served_ == 0 ? kRequestDeadline : kKeepAlive);
    // The keep-alive timeout runs until the next request's first byte; the
    // request deadline from there (a trickling header is cut off).
    http::async_read_some(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

 private:
  void OnFirstBytes(beast::error_code ec, size_t) {
    if (ec) return Close();
    if (parser_->is_done()) return Answer();
    stream_.expires_after(kRequestDeadline);
    http::async_read(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnRequest, shared_from_this()));
  }

  void OnRequest(beast::error_code ec, size_t) {
    if (ec) return Close();
    Answer();
  }

  void Answer() {
    const http::request<http::string_body>& request = parser_->get();
    response_ = {};
    response_.version(request.version());
    response_.keep_alive(request.keep_alive());
    const bool webhook =
        request.method() == http::verb::post &&
        std::string_view(request.target().data(), request.target().size())
            .starts_with(kWebhookPrefix);
    response_.result(webhook ? http::status::no_content
                             : http::status::not_found);
    response_.prepare_payload();
    ++served_;
    stream_.expires_after(kKeepAlive);
    http::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::OnWritten, shared_from_this()));
  }

  void OnWritten(beast::error_code ec, size_t) {
    if (ec || !response_.keep_alive()) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> response_;
  int64_t served_ = 0;
  std::atomic<int64_t>& open_;
};

}  // namespace

struct BeastFront::State {
  explicit State(int threads) : io(threads), acceptor(io) {}

  void Accept() {
    acceptor.async_accept(
        net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
          if (ec) return;  // the acceptor closed
          if (open.load() >= max_connections) {
            socket.close(ec);
          } else {
            std::make_shared<Session>(std::move(socket), open)->Read();
          }
          Accept();
        });
  }

  net::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<int64_t> open{0};
  int64_t max_connections = 0;
};

absl::StatusOr<std::unique_ptr<BeastFront>> BeastFront::Start(
    int threads, int max_connections) {
  auto state = std::make_unique<State>(threads);
  state->max_connections = max_connections;
  beast::error_code ec;
  const tcp::endpoint endpoint(net::ip::address_v4::loopback(), 0);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    state->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return absl::InternalError(absl::StrCat("listen: ", ec.message()));
  state->Accept();
  for (int i = 0; i < threads; ++i) {
    state->threads.emplace_back([io = &state->io] { io->run(); });
  }
  return std::unique_ptr<BeastFront>(new BeastFront(std::move(state)));
}

BeastFront::BeastFront(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

BeastFront::~BeastFront() {
  state_->io.stop();
  for (std::thread& t : state_->threads) t.join();
}

int BeastFront::port() const {
  return state_->acceptor.local_endpoint().port();
}

int64_t BeastFront::open_connections() const { return state_->open.load(); }

}  // namespace trainyard::bench
