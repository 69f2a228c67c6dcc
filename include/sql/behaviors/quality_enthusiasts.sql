-- Quality Enthusiasts: customers who value quality and buy premium products. Emphasize
-- craftsmanship and premium features.
-- Rule: at least 2 orders in the 365 days before the window end, and more than half of their
-- spend (order amounts) in that year went to premium products.
-- Parameters: :data_interval_end (naive UTC). One row per customers row of each member.
SELECT c.customer_id, c.email, c.phone, c.first_name, c.last_name, c.city, c.state, c.postal_code,
       c.country, c.date_of_birth, c.gender, c.madid, c.consent_ads, c.consent_personalization
FROM customers AS c
JOIN (
    SELECT o.customer_id
    FROM orders AS o
    WHERE o.order_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '365 days'
      AND o.order_ts < CAST(:data_interval_end AS TIMESTAMP)
    GROUP BY o.customer_id
    HAVING COUNT(*) >= 2
       AND SUM(CASE WHEN o.is_premium THEN o.amount ELSE 0 END) > 0.5 * SUM(o.amount)
) AS m ON m.customer_id = c.customer_id
