import GRDB
import GRDBSQLite

/// A prepared statement driven through the SQLite C API, for loops that run a statement once per
/// contact (the program runner). GRDB's `execute(arguments:)` boxes every value into a
/// `DatabaseValue` and runs its per-statement bookkeeping; at a million rows that cost more than
/// SQLite's own work. The statement is still GRDB's (cached, compiled and finalized by GRDB, run
/// inside a GRDB transaction); only binding, stepping and column reads go straight to SQLite.
/// Nothing here observes changes: this store uses no GRDB transaction observers.
struct BulkStatement {
    private let statement: Statement
    private let sqlite: SQLiteStatement
    private let db: Database

    init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
        sqlite = statement.sqliteStatement
    }

    /// Binds `values` (Int64, Int, String or nil) to the parameters in order, runs the statement
    /// to completion and resets it.
    func execute(_ values: Int64OrText...) throws { try execute(values) }

    func execute(_ values: [Int64OrText]) throws {
        try bind(values)
        defer { sqlite3_reset(sqlite) }
        let code = sqlite3_step(sqlite)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// Binds `values`, then calls `row` for each result row with this statement to read columns.
    func forEachRow(_ values: [Int64OrText], _ row: (BulkStatement) throws -> Void) throws {
        try bind(values)
        defer { sqlite3_reset(sqlite) }
        while true {
            let code = sqlite3_step(sqlite)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code) }
            try row(self)
        }
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(sqlite, column) }

    func optionalInt64(_ column: Int32) -> Int64? {
        sqlite3_column_type(sqlite, column) == SQLITE_NULL ? nil : sqlite3_column_int64(sqlite, column)
    }

    func text(_ column: Int32) -> String? {
        guard sqlite3_column_type(sqlite, column) != SQLITE_NULL, let bytes = sqlite3_column_text(sqlite, column) else { return nil }
        return String(cString: bytes)
    }

    private func bind(_ values: [Int64OrText]) throws {
        sqlite3_clear_bindings(sqlite)
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .int(let v): code = sqlite3_bind_int64(sqlite, index, v)
            case .text(let v): code = v.withCString { sqlite3_bind_text(sqlite, index, $0, -1, SQLITE_TRANSIENT) }
            case .null: code = SQLITE_OK
            }
            guard code == SQLITE_OK else { throw error(code) }
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
    }
}

/// A value for `BulkStatement`: what the runner binds.
enum Int64OrText: ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    case int(Int64)
    case text(String)
    case null

    init(integerLiteral value: Int64) { self = .int(value) }
    init(nilLiteral: ()) { self = .null }
    init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
    init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}

/// SQLite copies the bytes before the call returns. (Named as SQLite's C header names it.)
// swift-format-ignore: AlwaysUseLowerCamelCase
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension Int64OrText {
    /// The same value for `StoreConnection`, where a statement has no `BulkStatement` (PostgreSQL).
    /// The same value for PostgreSQL's `COPY` (`SendLedger.flush`).
    var postgresValue: PostgresValue {
        switch self {
        case .int(let value): return .int(value)
        case .text(let value): return .text(value)
        case .null: return .null
        }
    }

    var storeValue: (any DatabaseValueConvertible)? {
        switch self {
        case .int(let value): return value
        case .text(let value): return value
        case .null: return nil
        }
    }
}

/// A result row read by column number, as a batch's reader reads it: a `BulkStatement`'s current
/// row on SQLite, a `StoreRow` on PostgreSQL.
protocol BatchRow {
    func int64(_ column: Int32) -> Int64
    func optionalInt64(_ column: Int32) -> Int64?
    func text(_ column: Int32) -> String?
}

extension BulkStatement: BatchRow {}

extension StoreRow: BatchRow {
    func int64(_ column: Int32) -> Int64 { optionalInt64(column) ?? 0 }
    func optionalInt64(_ column: Int32) -> Int64? { Int64.fromDatabaseValue(values[Int(column)]) }
    func text(_ column: Int32) -> String? { String.fromDatabaseValue(values[Int(column)]) }
}
