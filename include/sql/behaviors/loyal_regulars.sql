-- Loyal Regulars: customers who buy steadily, month after month. A stable segment and a good
-- seed for lookalike and similar audiences; re-engage them with exclusive perks.
-- Rule: orders in at least 4 of the six 30-day periods before the window end.
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
    HAVING COUNT(DISTINCT CASE
               WHEN o.order_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '30 days' THEN 1
               WHEN o.order_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '60 days' THEN 2
               WHEN o.order_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '90 days' THEN 3
               WHEN o.order_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '120 days' THEN 4
               WHEN o.order_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '150 days' THEN 5
               ELSE 6
           END) >= 4
) AS m ON m.customer_id = c.customer_id
