-- Comfort Seekers: customers who value convenience (easy shopping, fast delivery, hassle-free
-- returns). Highlight convenience features in campaigns.
-- Rule: at least 2 orders in the 180 days before the window end, and more than half of them
-- shipped express or next-day.
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
       AND 2 * COUNT(*) FILTER (WHERE o.shipping_speed IN ('express', 'next_day')) > COUNT(*)
) AS m ON m.customer_id = c.customer_id
