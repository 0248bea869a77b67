import Foundation
import GRDB

/// Which engine a connection talks to, for the few statements that differ between them.
enum StoreEngine: Sendable, Equatable {
    case sqlite, postgres
}

/// A statement's values, bound to its `?` (or `?NNN`) in order: GRDB's own value types, so an
/// array literal at the call site reads as it does with GRDB.
typealias StoreArguments = [(any DatabaseValueConvertible)?]

/// One connection's calls, the same on SQLite (GRDB's `Database`) and on PostgreSQL (#30), so a
/// service is written once for both. The SQL is written for both engines: `?` placeholders,
/// `ON CONFLICT … DO NOTHING` rather than `INSERT OR IGNORE`, `IS DISTINCT FROM` rather than
/// `IS NOT` between values, `lower(…)` where SQLite would compare with NOCASE.
///
/// The names are apart from GRDB's (`exec`, not `execute`): on a GRDB `Database` an array
/// literal would otherwise pick the other overload without a word.
protocol StoreConnection {
    var engine: StoreEngine { get }
    /// Runs a statement; the rows it changed (INSERT, UPDATE, DELETE), 0 for others.
    @discardableResult
    func exec(_ sql: String, _ arguments: StoreArguments) throws -> Int
    /// `exec` for a statement run many times in one transaction (a row of a batch): SQLite keeps
    /// it prepared (GRDB's statement cache), PostgreSQL on the connection (`PQprepare`, planned
    /// once: `PostgresConnection.executePrepared`).
    @discardableResult
    func execPrepared(_ sql: String, _ arguments: StoreArguments) throws -> Int
    func rows(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow]
    /// `rows` for a query run many times in one transaction, kept prepared as `execPrepared` is.
    func rowsPrepared(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow]
    /// Runs an INSERT of one row into a table whose key is `id`; the new row's id (SQLite's
    /// last rowid, PostgreSQL's `RETURNING id`).
    func insert(_ sql: String, _ arguments: StoreArguments) throws -> Int64
    /// The id the next row of `table` gets, taken now: for a row whose other values depend on
    /// its id (a profile's opt-in field). SQLite: one past `sqlite_sequence` (the write
    /// transaction holds it until the row is in); PostgreSQL: the identity's `nextval`, never
    /// given again.
    func nextID(_ table: String) throws -> Int64
}

extension StoreConnection {
    @discardableResult
    func exec(_ sql: String) throws -> Int { try exec(sql, []) }

    func rows(_ sql: String) throws -> [StoreRow] { try rows(sql, []) }

    func row(_ sql: String, _ arguments: StoreArguments = []) throws -> StoreRow? { try rows(sql, arguments).first }

    /// The first column of the first row; nil when there is no row or it is NULL.
    func value<T: DatabaseValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: StoreArguments = []) throws -> T? {
        guard let row = try rows(sql, arguments).first else { return nil }
        return row.at(0) as T?
    }

    /// "`column` is the email `?`", ignoring case as SQLite's NOCASE column does; on PostgreSQL
    /// through `lower(…)`, which its unique index on `lower(email)` answers (`PostgresSchema`).
    func sameEmail(_ column: String = "email") -> String {
        engine == .sqlite ? "\(column) = ?" : "lower(\(column)) = lower(?)"
    }

    /// The first column of every row, NULLs left out.
    func values<T: DatabaseValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: StoreArguments = []) throws -> [T] {
        try rows(sql, arguments).compactMap { $0.at(0) as T? }
    }
}

/// A row as either engine gave it: its columns' names and values, read as with GRDB's `Row`
/// (`row["name"]`, by name ignoring case, or `row.at(0)`).
struct StoreRow {
    let columns: [String]
    let values: [DatabaseValue]

    subscript<T: DatabaseValueConvertible>(_ name: String) -> T {
        guard let index = columns.firstIndex(of: name) ?? columns.firstIndex(where: { $0.lowercased() == name.lowercased() })
        else {
            // A statement that doesn't select what its reader reads: the code is wrong, not the data.
            preconditionFailure("no column \(name) in a row of \(columns)")
        }
        return at(index)
    }

    subscript<T: DatabaseValueConvertible>(_ index: Int) -> T { at(index) }

    func at<T: DatabaseValueConvertible>(_ index: Int) -> T {
        guard let value = T.fromDatabaseValue(values[index]) else {
            preconditionFailure("column \(columns[index]) holds \(values[index]), not a \(T.self)")
        }
        return value
    }
}

// GRDB's connection is the SQLite side.
extension Database: StoreConnection {
    var engine: StoreEngine { .sqlite }

    func exec(_ sql: String, _ arguments: StoreArguments) throws -> Int {
        try execute(sql: sql, arguments: StatementArguments(arguments))
        return changesCount
    }

    func execPrepared(_ sql: String, _ arguments: StoreArguments) throws -> Int {
        try cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
        return changesCount
    }

    func rows(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow] {
        Self.storeRows(try Row.fetchAll(self, sql: sql, arguments: StatementArguments(arguments)))
    }

    func rowsPrepared(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow] {
        Self.storeRows(try Row.fetchAll(try cachedStatement(sql: sql), arguments: StatementArguments(arguments)))
    }

    private static func storeRows(_ rows: [Row]) -> [StoreRow] {
        guard let first = rows.first else { return [] }
        let columns = Array(first.columnNames)
        return rows.map { StoreRow(columns: columns, values: Array($0.databaseValues)) }
    }

    func insert(_ sql: String, _ arguments: StoreArguments) throws -> Int64 {
        try execute(sql: sql, arguments: StatementArguments(arguments))
        return lastInsertedRowID
    }

    func nextID(_ table: String) throws -> Int64 {
        (try Int64.fetchOne(self, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table]) ?? 0) + 1
    }
}
