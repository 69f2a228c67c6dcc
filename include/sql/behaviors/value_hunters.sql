-- Value Hunters: price-conscious customers who mostly buy on discount. Use for offer-led
-- campaigns (special codes, limited-time deals).
-- Rule: at least 2 orders in the 180 days before the window end, and at least 60% of them
-- carried a discount.
-- Parameters: :data_interval_end (naive UTC). One row per customers row of each member.
SELECT c.customer_id, c.email, c.phone, c.first_name, c.last_name, c.city, c.state, c.postal_code,
       c.country, c.date_of_birth, c.gender, c.madid, c.consent_ads, c.consent_personalization
FROM customers AS c
JOIN (
    SELECT o.customer_id
    FROM orders AS o
    WHERE o.order_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '180 days'
      AND o.order_ts < CAST(:data_interval_end AS TIMESTAMP)
    GROUP BY o.customer_id
    HAVING COUNT(*) >= 2
       AND COUNT(*) FILTER (WHERE o.discount_amount > 0) >= 0.6 * COUNT(*)
) AS m ON m.customer_id = c.customer_id
