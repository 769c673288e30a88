// Client documents a Relay app over the hub would write: the compiler must accept them.
import { graphql } from "react-relay";

// A paginated order list: Relay's @connection needs the full PageInfo and first/after.
export const ordersList = graphql`
  fragment orders_list on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" })
  @refetchable(queryName: "OrdersPaginationQuery") {
    orders(first: $count, after: $cursor) @connection(key: "orders_list_orders") {
      edges {
        node {
          ...order_summary
        }
      }
    }
  }
`;

// Paging backward through the same list (last/before).
export const recentOrders = graphql`
  fragment orders_recent on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" })
  @refetchable(queryName: "RecentOrdersPaginationQuery") {
    recent: orders(last: $count, before: $cursor) @connection(key: "orders_recent_recent") {
      edges {
        node {
          orderNo
        }
      }
    }
  }
`;

// One order, refetched by its global id through node(id:).
export const orderSummary = graphql`
  fragment order_summary on Order @refetchable(queryName: "OrderRefetchQuery") {
    orderNo
    goodsValue
    matching {
      status
    }
    payment {
      amountPaid
    }
  }
`;

// An enterprise's own orders, a connection below a Node.
export const enterpriseOrders = graphql`
  fragment enterprise_orders on Enterprise
  @argumentDefinitions(count: { type: "Int", defaultValue: 5 }, cursor: { type: "String" })
  @refetchable(queryName: "EnterpriseOrdersPaginationQuery") {
    code
    orders(first: $count, after: $cursor) @connection(key: "enterprise_orders_orders") {
      edges {
        node {
          orderNo
        }
      }
    }
  }
`;

export const ordersPage = graphql`
  query ordersPageQuery($code: String!) {
    ...orders_list
    ...orders_recent
    enterprise(code: $code) {
      ...enterprise_orders
    }
  }
`;
