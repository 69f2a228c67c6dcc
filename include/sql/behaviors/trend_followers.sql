-- Trend Followers: fashion-forward customers who browse new arrivals. Promote the newest
-- arrivals, trending products and style guides.
-- Rule: at least 5 product views in the 30 days before the window end, and at least 40% of
-- those views were of new arrivals.
-- Parameters: :data_interval_end (naive UTC). One row per customers row of each member.
SELECT c.customer_id, c.email, c.phone, c.first_name, c.last_name, c.city, c.state, c.postal_code,
       c.country, c.date_of_birth, c.gender, c.madid, c.consent_ads, c.consent_personalization
FROM customers AS c
JOIN (
    SELECT b.customer_id
    FROM browse_events AS b
    WHERE b.event_type = 'view'
      AND b.event_ts >= CAST(:data_interval_end AS TIMESTAMP) - INTERVAL '30 days'
      AND b.event_ts < CAST(:data_interval_end AS TIMESTAMP)
    GROUP BY b.customer_id
    HAVING COUNT(*) >= 5
       AND COUNT(*) FILTER (WHERE b.is_new_arrival) >= 0.4 * COUNT(*)
) AS m ON m.customer_id = c.customer_id
