import Foundation
import StoreTestSupport
import XCTest

@testable import MessengerCore

/// The plans PostgreSQL keeps for the statements the hot paths prepare (#30). A prepared
/// statement's generic plan is made once per connection, often while the tables are still small
/// (the demo, a new account's first day), and then kept: each must stay on its index whatever
/// the tables held when it was planned.
final class PostgresPlanTests: PostgresTestCase {
    /// The generic plan of `sql` (its `?`s typed as `types`), as EXPLAIN prints it.
    func genericPlan(_ database: AppDatabase, _ sql: String, types: [String]) throws -> String {
        try database.transaction { db in
            try db.exec("SET LOCAL plan_cache_mode = force_generic_plan")
            let (numbered, _) = Placeholders.numbered(sql)
            try db.exec("PREPARE planned (\(types.joined(separator: ", "))) AS \(numbered)")
            let values = types.map { $0 == "text" ? "'x'" : "1" }.joined(separator: ", ")
            let plan = try db.rows("EXPLAIN EXECUTE planned (\(values))").map { $0.at(0) as String }.joined(separator: "\n")
            try db.exec("DEALLOCATE planned")
            return plan
        }
    }

    func testAReceiptsWalkToItsSendsStaysOnTheEnrolmentKeyPlannedOnEmptyTables() throws {
        let database = try makeDatabase(.postgres)
        let plan = try genericPlan(database, ReceiptService.openSends(.postgres), types: ["bigint", "bigint", "text"])
        XCTAssertTrue(plan.contains("Index Scan using send_enrolment_id_node_id_key on send"), plan)
        XCTAssertTrue(plan.contains("Index Cond: ((program_id = ANY ($1)) AND (contact_id = $1))"), plan)
        XCTAssertFalse(plan.contains("send_by_outcome"), plan)
        XCTAssertFalse(plan.contains("Seq Scan on send"), plan)
        XCTAssertFalse(plan.contains("Seq Scan on program_contact"), plan)
    }
}
