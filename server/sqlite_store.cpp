// sqlite_store.cpp — SqliteStore: opening (pragmas, migrations), the read-connection
// pool, the reads, and shutdown. The writes are in sqlite_store_writes.cpp.
//
// Reads run on a leased read connection inside one read transaction (one snapshot);
// a read that finds the pool empty waits for a connection to come back.
#include "server/sqlite_store.hpp"

#include <sqlite3.h>

#include <cctype>
#include <utility>

#include "server/sqlite_migrations.hpp"

namespace sotto::relay {
namespace {

using sqlite::Connection;
using sqlite::Statement;

StoreOpenError pragma_error(StoreError e, const char* what, Connection& conn) {
  return StoreOpenError{e, std::string("cannot set ") + what + ": " + conn.last_error_message()};
}

// Sets and then verifies every per-connection pragma the store relies on.
Result<void, StoreOpenError> configure(Connection& conn, const SqliteStoreOptions& o, bool writer) {
  const std::string busy = "PRAGMA busy_timeout = " + std::to_string(o.busy_timeout.count());
  if (auto r = conn.exec(busy.c_str()); !r)
    return fail(pragma_error(r.error(), "busy_timeout", conn));

  // WAL: readers never block the writer and one fsync of the log commits a batch.
  auto mode = conn.query_text("PRAGMA journal_mode = WAL");
  if (!mode) return fail(pragma_error(mode.error(), "journal_mode", conn));
  if (*mode != "wal") {
    return fail(StoreOpenError{StoreError::kBusy, "the database cannot use WAL journaling (got '" +
                                                      *mode +
                                                      "'): is it on a network file system?"});
  }
  const std::int64_t want_sync = o.durability == Durability::kFull ? 2 : 1;
  const char* sync_sql =
      want_sync == 2 ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  if (auto r = conn.exec(sync_sql); !r) return fail(pragma_error(r.error(), "synchronous", conn));
  if (auto r = conn.exec("PRAGMA secure_delete = ON"); !r) {
    return fail(pragma_error(r.error(), "secure_delete", conn));
  }
  if (auto r = conn.exec("PRAGMA foreign_keys = ON"); !r) {
    return fail(pragma_error(r.error(), "foreign_keys", conn));
  }
  // Statement journals in memory: the group commit opens a savepoint per
  // operation, and SQLite copies every page an operation touches into the
  // savepoint's sub-journal — by default a temporary file once it passes
  // 64 KiB, i.e. two pwrite calls per page per operation (docs/performance.md).
  // In memory it costs a memcpy, and no copy of a stored page (ciphertext)
  // ever lands in a temporary file that secure_delete does not cover.
  if (auto r = conn.exec("PRAGMA temp_store = MEMORY"); !r) {
    return fail(pragma_error(r.error(), "temp_store", conn));
  }
  // Truncate the WAL back to 64 MiB after checkpoints, so old page images of deleted
  // rows do not linger in a large log file.
  if (auto r = conn.exec("PRAGMA journal_size_limit = 67108864"); !r) {
    return fail(pragma_error(r.error(), "journal_size_limit", conn));
  }
  if (writer && o.max_page_count > 0) {
    const std::string cap = "PRAGMA max_page_count = " + std::to_string(o.max_page_count);
    auto got = conn.query_int(cap.c_str());
    if (!got) return fail(pragma_error(got.error(), "max_page_count", conn));
  }
  if (!writer) {
    if (auto r = conn.exec("PRAGMA query_only = ON"); !r) {
      return fail(pragma_error(r.error(), "query_only", conn));
    }
  }

  // Verify: a pragma SQLite silently ignored would be a durability or privacy hole.
  struct Expect {
    const char* sql;
    std::int64_t value;
  };
  const Expect expects[] = {{"PRAGMA synchronous", want_sync},
                            {"PRAGMA secure_delete", 1},
                            {"PRAGMA foreign_keys", 1},
                            {"PRAGMA temp_store", 2}};
  for (const Expect& e : expects) {
    auto v = conn.query_int(e.sql);
    if (!v) return fail(pragma_error(v.error(), e.sql, conn));
    if (*v != e.value) {
      return fail(StoreOpenError{StoreError::kInternal, std::string(e.sql) + " is " +
                                                            std::to_string(*v) + " instead of " +
                                                            std::to_string(e.value)});
    }
  }
  return {};
}

// One account row (columns 0..7 in the order of kAccountColumns) into a record.
constexpr const char* kAccountColumns =
    "identity_key, transport_key, transport_key_signature, signed_prekey_id, signed_prekey, "
    "created_day, last_seen_day, device_id";

template <std::size_t N>
bool copy_fixed(const Bytes& from, std::array<std::uint8_t, N>& to) {
  if (from.size() != N) return false;
  std::copy(from.begin(), from.end(), to.begin());
  return true;
}

StoreResult<AccountRecord> read_account_row(const Statement& s) {
  AccountRecord a;
  if (!copy_fixed(s.column_blob(0), a.keys.identity_key) ||
      !copy_fixed(s.column_blob(1), a.keys.transport_key) ||
      !copy_fixed(s.column_blob(2), a.keys.transport_signature)) {
    return fail(StoreError::kCorrupt);
  }
  SOTTO_TRY(std::uint64_t spk_id, s.column_u64(3));
  if (spk_id > 0xffffffffu) return fail(StoreError::kCorrupt);
  a.keys.signed_prekey.id = static_cast<std::uint32_t>(spk_id);
  a.keys.signed_prekey.encoded = s.column_blob(4);
  SOTTO_TRY(a.created_day, s.column_u64(5));
  SOTTO_TRY(a.last_seen_day, s.column_u64(6));
  SOTTO_TRY(std::uint64_t device_id, s.column_u64(7));
  if (device_id > 0xffffffffu) return fail(StoreError::kCorrupt);
  a.keys.device_id = static_cast<std::uint32_t>(device_id);
  return a;
}

StoreResult<AccountRecord> load_account(Connection& c, const AccountId& id) {
  static const std::string sql =
      std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE identity_key = ?1";
  SOTTO_TRY(Statement s, c.prepare(sql.c_str()));
  SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
  SOTTO_TRY(bool row, s.step());
  if (!row) return fail(StoreError::kNotFound);
  return read_account_row(s);
}

// Runs `fn` inside one read transaction (a single WAL snapshot).
template <class F>
auto in_read_txn(Connection& c, F fn) -> decltype(fn(c)) {
  if (auto r = c.exec("BEGIN"); !r) return fail(r.error());
  auto result = fn(c);
  if (auto r = c.exec("COMMIT"); !r) {
    if (c.in_transaction()) (void)c.exec("ROLLBACK");  // a read: nothing to lose
    if (result) return fail(r.error());
  }
  return result;
}

bool is_pragma_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  }
  return true;
}

}  // namespace

// ---- the read-connection pool ----

class SqliteStore::ReadLease {
 public:
  ReadLease(SqliteStore* store, Connection conn) : store_(store), conn_(std::move(conn)) {}
  ReadLease(ReadLease&& o) noexcept
      : store_(std::exchange(o.store_, nullptr)), conn_(std::move(o.conn_)) {}
  ReadLease& operator=(ReadLease&&) = delete;
  ~ReadLease() {
    if (store_ != nullptr) store_->return_reader(std::move(conn_));
  }
  Connection& conn() { return conn_; }

 private:
  SqliteStore* store_;
  Connection conn_;
};

StoreResult<SqliteStore::ReadLease> SqliteStore::lease_reader() {
  std::unique_lock lock(readers_mu_);
  reader_free_.wait(lock, [this] { return closed_ || !readers_.empty(); });
  if (closed_) return fail(StoreError::kClosed);
  Connection c = std::move(readers_.back());
  readers_.pop_back();
  ++leased_;
  return ReadLease(this, std::move(c));
}

void SqliteStore::return_reader(Connection conn) {
  {
    std::lock_guard lock(readers_mu_);
    readers_.push_back(std::move(conn));
    --leased_;
  }
  reader_free_.notify_all();
}

// ---- opening and closing ----

Result<std::unique_ptr<SqliteStore>, StoreOpenError> SqliteStore::open(SqliteStoreOptions options) {
  if (sqlite3_libversion_number() < 3035000) {
    return fail(StoreOpenError{
        StoreError::kInternal,
        std::string("SQLite 3.35 or newer is needed (RETURNING); found ") + sqlite3_libversion()});
  }
  SOTTO_TRY(Connection writer, Connection::open(options.path, /*create=*/true));
  SOTTO_TRY_VOID(configure(writer, options, /*writer=*/true));
  SOTTO_TRY_VOID(sqlite::migrate(writer));

  std::vector<Connection> readers;
  const std::size_t n = std::max<std::size_t>(options.read_connections, 1);
  for (std::size_t i = 0; i < n; ++i) {
    SOTTO_TRY(Connection r, Connection::open(options.path, /*create=*/false));
    SOTTO_TRY_VOID(configure(r, options, /*writer=*/false));
    readers.push_back(std::move(r));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(options), std::move(readers)));
  // No write is in flight yet: the book starts equal to the file.
  SOTTO_TRY_VOID(store->load_mailboxes(writer));
  store->writer_ =
      std::make_unique<sqlite::GroupCommitWriter>(std::move(writer), store->options_.group_commit);
  return store;
}

SqliteStore::SqliteStore(SqliteStoreOptions options, std::vector<Connection> readers)
    : options_(std::move(options)),
      book_(std::max<std::uint64_t>(options_.sequence_reservation, 2)),
      readers_(std::move(readers)) {}

Result<void, StoreOpenError> SqliteStore::load_mailboxes(Connection& c) {
  auto failed = [&c](StoreError e) {
    return StoreOpenError{e, "cannot read the mailboxes: " + c.last_error_message()};
  };
  auto s = c.prepare("SELECT account, next_seq, queued_messages, queued_bytes FROM mailboxes");
  if (!s) return fail(failed(s.error()));
  for (;;) {
    auto row = s->step();
    if (!row) return fail(failed(row.error()));
    if (!*row) break;
    AccountId id{};
    if (!copy_fixed(s->column_blob(0), id)) return fail(failed(StoreError::kCorrupt));
    auto next = s->column_u64(1);
    auto messages = s->column_u64(2);
    auto bytes = s->column_u64(3);
    if (!next || !messages || !bytes) return fail(failed(StoreError::kCorrupt));
    book_.load(id, *next, *messages, *bytes);
  }
  return {};
}

SqliteStore::~SqliteStore() {
  close();
}

void SqliteStore::close() {
  if (writer_) writer_->shutdown();  // drains the queue: every accepted write commits
  std::unique_lock lock(readers_mu_);
  closed_ = true;
  reader_free_.notify_all();
  reader_free_.wait(lock, [this] { return leased_ == 0; });
  for (Connection& c : readers_) (void)c.close();  // reads only: nothing to lose
  readers_.clear();
}

CommitStats SqliteStore::commit_stats() const {
  CommitStats c = writer_->stats();
  c.held_inserts = held_total_.load();
  c.held_inserts_released = held_released_.load();
  return c;
}

StoreResult<std::int64_t> SqliteStore::reader_pragma(const std::string& name) {
  if (!is_pragma_name(name)) return fail(StoreError::kInvalidArgument);
  SOTTO_TRY(ReadLease lease, lease_reader());
  const std::string sql = "PRAGMA " + name;
  return lease.conn().query_int(sql.c_str());
}

// ---- reads ----

StoreResult<AccountRecord> SqliteStore::get_account(const AccountId& id) {
  SOTTO_TRY(ReadLease lease, lease_reader());
  return load_account(lease.conn(), id);
}

StoreResult<std::uint64_t> SqliteStore::count_one_time_prekeys(const AccountId& id) {
  SOTTO_TRY(ReadLease lease, lease_reader());
  SOTTO_TRY(Statement s, lease.conn().prepare(
                             "SELECT (SELECT count(*) FROM one_time_prekeys WHERE account = ?1) "
                             "FROM accounts WHERE identity_key = ?1"));
  SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
  SOTTO_TRY(bool row, s.step());
  if (!row) return fail(StoreError::kNotFound);
  return s.column_u64(0);
}

StoreResult<std::vector<QueuedEnvelope>> SqliteStore::fetch(const AccountId& recipient,
                                                            Sequence after_seq, std::size_t limit) {
  // The early pending envelopes first, the file second: an insert that commits in
  // between is then seen twice (dropped below), never missed. Whatever the file holds
  // beyond the pending ones read here committed after them (one writer, in order).
  auto early = book_.early_pending(recipient, after_seq, limit);
  SOTTO_TRY(auto stored, stored_envelopes(recipient, after_seq, limit));
  if (early.empty()) return stored;
  std::vector<QueuedEnvelope> out;
  out.reserve(std::min(limit, early.size() + stored.size()));
  std::size_t i = 0, j = 0;
  while (out.size() < limit && (i < early.size() || j < stored.size())) {
    if (j == stored.size() || (i < early.size() && early[i].seq < stored[j].seq)) {
      out.push_back(std::move(early[i++]));
    } else {
      if (i < early.size() && early[i].seq == stored[j].seq) ++i;  // committed meanwhile
      out.push_back(std::move(stored[j++]));
    }
  }
  // Both lists hold the smallest sequences of their kind: the first `limit` of the
  // merge miss nothing below the last one returned.
  return out;
}

StoreResult<std::vector<QueuedEnvelope>> SqliteStore::stored_envelopes(const AccountId& recipient,
                                                                       Sequence after_seq,
                                                                       std::size_t limit) {
  SOTTO_TRY(ReadLease lease, lease_reader());
  return in_read_txn(lease.conn(), [&](Connection& c) -> StoreResult<std::vector<QueuedEnvelope>> {
    {
      SOTTO_TRY(Statement s, c.prepare("SELECT 1 FROM mailboxes WHERE account = ?1"));
      SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
      SOTTO_TRY(bool row, s.step());
      if (!row) return fail(StoreError::kNotFound);
    }
    SOTTO_TRY(Statement s, c.prepare("SELECT seq, arrival_bucket, ciphertext FROM messages "
                                     "WHERE recipient = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"));
    SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
    SOTTO_TRY_VOID(s.bind_u64(2, after_seq));
    SOTTO_TRY_VOID(s.bind_u64(3, limit));
    std::vector<QueuedEnvelope> out;
    for (;;) {
      SOTTO_TRY(bool row, s.step());
      if (!row) break;
      QueuedEnvelope e;
      SOTTO_TRY(e.seq, s.column_u64(0));
      SOTTO_TRY(e.arrival_bucket, s.column_u64(1));
      e.ciphertext = s.column_blob(2);
      out.push_back(std::move(e));
    }
    return out;
  });
}

StoreResult<StoreStats> SqliteStore::stats(std::uint64_t now_unix) {
  SOTTO_TRY(ReadLease lease, lease_reader());
  return in_read_txn(lease.conn(), [&](Connection& c) -> StoreResult<StoreStats> {
    SOTTO_TRY(Statement s, c.prepare("SELECT (SELECT count(*) FROM accounts), "
                                     "(SELECT coalesce(sum(queued_messages), 0) FROM mailboxes), "
                                     "(SELECT coalesce(sum(queued_bytes), 0) FROM mailboxes), "
                                     "(SELECT count(*) FROM one_time_prekeys), "
                                     "(SELECT min(arrival_bucket) FROM messages)"));
    SOTTO_TRY(bool row, s.step());
    if (!row) return fail(StoreError::kInternal);
    StoreStats st;
    SOTTO_TRY(st.accounts, s.column_u64(0));
    SOTTO_TRY(st.queued_messages, s.column_u64(1));
    SOTTO_TRY(st.queued_bytes, s.column_u64(2));
    SOTTO_TRY(st.one_time_prekeys, s.column_u64(3));
    if (!s.column_is_null(4)) {
      SOTTO_TRY(std::uint64_t bucket, s.column_u64(4));
      const std::uint64_t start = bucket * kArrivalBucketSeconds;
      st.oldest_message_age_seconds = now_unix > start ? now_unix - start : 0;
    }
    return st;
  });
}

StoreResult<Disclosure> SqliteStore::disclose(const AccountId& id) {
  SOTTO_TRY(ReadLease lease, lease_reader());
  return in_read_txn(lease.conn(), [&](Connection& c) -> StoreResult<Disclosure> {
    Disclosure d;
    SOTTO_TRY(d.account, load_account(c, id));
    {
      SOTTO_TRY(Statement s, c.prepare("SELECT prekey_id FROM one_time_prekeys "
                                       "WHERE account = ?1 ORDER BY position"));
      SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
      for (;;) {
        SOTTO_TRY(bool row, s.step());
        if (!row) break;
        SOTTO_TRY(std::uint64_t pid, s.column_u64(0));
        d.one_time_prekey_ids.push_back(static_cast<std::uint32_t>(pid));
      }
    }
    {
      SOTTO_TRY(Statement s,
                c.prepare("SELECT next_seq, queued_bytes FROM mailboxes WHERE account = ?1"));
      SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
      SOTTO_TRY(bool row, s.step());
      if (!row) return fail(StoreError::kCorrupt);  // every account has its mailbox
      SOTTO_TRY(d.next_sequence, s.column_u64(0));
      // The stored counter runs ahead of the sequences handed out (reserved ranges).
      if (auto next = book_.next_sequence(id)) d.next_sequence = *next;
      SOTTO_TRY(d.queued_bytes, s.column_u64(1));
    }
    SOTTO_TRY(Statement s, c.prepare("SELECT seq, length(ciphertext), arrival_bucket "
                                     "FROM messages WHERE recipient = ?1 ORDER BY seq"));
    SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
    for (;;) {
      SOTTO_TRY(bool row, s.step());
      if (!row) break;
      QueuedMessageInfo m;
      SOTTO_TRY(m.seq, s.column_u64(0));
      SOTTO_TRY(m.size, s.column_u64(1));
      SOTTO_TRY(m.arrival_bucket, s.column_u64(2));
      d.queued.push_back(m);
    }
    return d;
  });
}

}  // namespace sotto::relay
