-- Cart Abandoners: customers who left items in their cart. A dynamic segment for cart
-- recovery (reminder, then an incentive); synced daily with a short membership.
-- Rule: added a product to the cart in the 7 days before the window end, and placed no order
-- since their latest add-to-cart (up to the window end).
-- Parameters: :data_interval_end (naive UTC). One row per customers row of each member.
SELECT c.customer_id, c.email, c.phone, c.first_name, c.last_name, c.city, c.state, c.postal_code,
       c.country, c.date_of_birth, c.gender, c.madid, c.consent_ads, c.consent_personalization
FROM customers AS c
JOIN (
    SELECT b.customer_id, MAX(b.event_ts) AS last_cart_ts
    FROM browse_events AS b
    WHERE b.event_type = 'add_to_cart'
      AND b.event_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '7 days'
      AND b.event_ts < CAST(:data_interval_end AS TIMESTAMP)
    GROUP BY b.customer_id
) AS m ON m.customer_id = c.customer_id
WHERE NOT EXISTS (
    SELECT 1
    FROM orders AS o
    WHERE o.customer_id = m.customer_id
      AND o.order_ts >= m.last_cart_ts
      AND o.order_ts < CAST(:data_interval_end AS TIMESTAMP)
)
